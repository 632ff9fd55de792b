#!/usr/bin/python3
"""groundup's PyTorch reference for the recurrent cells (nn/recurrent.h) and the seq2seq model
with attention (models/seq2seq_rnn.h), for tests/test_recurrent.c.

Cells: torch.nn.GRUCell(3, 4) and torch.nn.LSTMCell(3, 4) run for 3 steps over a batch of 2
from a random state; the objective is sum(proj * h_t) over the steps (plus sum(proj_c * c_t)
for the LSTM), proj random. Written to <out>/CELLS.safetensors, per cell (prefix "gru." or
"lstm."): weight_ih, weight_hh, bias_ih, bias_hh, x (T,B,in), h0 (B,H) (and c0), proj (T,B,H)
(and proj_c), hs (T,B,H) (and cs), loss (), grad.<parameter>, grad.x, grad.h0 (and grad.c0).

The seq2seq model, in two configurations (gru additive, lstm multiplicative): the encoder is
PyTorch's own bidirectional nn.GRU / nn.LSTM over packed sequences (pack_padded_sequence), so
the padding rule of the C model is checked against PyTorch's; its weights weight_ih_l0 and
weight_ih_l0_reverse are written as encoder.forward.weight_ih and encoder.backward.weight_ih
(and so on). The decoder is an nn.GRUCell / nn.LSTMCell in Bahdanau's order (attend from
s_{i-1}, step, then the generator over [s_i; c_i; e(y_{i-1})]); see models/seq2seq_rnn.h.
Vocabulary V 45 (the toy tasks'; pad 0, bos 1, eos 2), E 5, H 6, max source 7, max target 6, a batch of 3
with source lengths 7, 4, 2 and target lengths 6, 4, 3 (pad after). Per configuration NAME
(gru_additive, lstm_multiplicative):
  <out>/NAME_PARAMS.safetensors  the state_dict with the metadata seq2seq_rnn_load reads (arch
                                 gru or lstm, attention, the sizes, the special ids)
  <out>/NAME_STATE.safetensors   source (B,S) I32, source_length (B) I32, target (B,T) I32,
                                 logits (B,T-1,V), loss (), grad.<name> for every parameter,
                                 step_losses (5): the loss before each of 5 AdamW steps (lr
                                 1e-2, weight decay 0.01, betas 0.9/0.999, eps 1e-8) on the
                                 batch, greedy (B, max target) I32: greedy decoding of the
                                 sources by the initial weights (pad after eos)

  OMP_NUM_THREADS=1 /usr/bin/python3 tools/reference/recurrent_reference.py --out tests/fixtures/recurrent
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture import write_safetensors  # noqa: E402

PAD, BOS, EOS = 0, 1, 2


def f32(t):
    return t.detach().numpy().astype(np.float32)


def cell_fixture(kind, generator):
    T, B, I, H = 3, 2, 3, 4
    cell = nn.GRUCell(I, H) if kind == "gru" else nn.LSTMCell(I, H)
    x = torch.randn(T, B, I, generator=generator, requires_grad=True)
    h0 = torch.randn(B, H, generator=generator, requires_grad=True)
    c0 = torch.randn(B, H, generator=generator, requires_grad=True)
    proj = torch.randn(T, B, H, generator=generator)
    proj_c = torch.randn(T, B, H, generator=generator)
    hs, cs, h, c = [], [], h0, c0
    for t in range(T):
        if kind == "gru":
            h = cell(x[t], h)
        else:
            h, c = cell(x[t], (h, c))
            cs.append(c)
        hs.append(h)
    hs = torch.stack(hs)
    loss = (proj * hs).sum()
    if kind == "lstm":
        cs = torch.stack(cs)
        loss = loss + (proj_c * cs).sum()
    loss.backward()
    out = [(f"{kind}.{n}", f32(p)) for n, p in cell.named_parameters()]
    out += [(f"{kind}.x", f32(x)), (f"{kind}.h0", f32(h0)), (f"{kind}.proj", f32(proj)), (f"{kind}.hs", f32(hs)),
            (f"{kind}.loss", f32(loss)), (f"{kind}.grad.x", f32(x.grad)), (f"{kind}.grad.h0", f32(h0.grad))]
    if kind == "lstm":
        out += [("lstm.c0", f32(c0)), ("lstm.proj_c", f32(proj_c)), ("lstm.cs", f32(cs)),
                ("lstm.grad.c0", f32(c0.grad))]
    out += [(f"{kind}.grad.{n}", f32(p.grad)) for n, p in cell.named_parameters()]
    return out


class Attention(nn.Module):
    def __init__(self, kind, H):
        super().__init__()
        self.kind = kind
        if kind == "additive":
            self.query = nn.Linear(H, H, bias=False)
        self.key = nn.Linear(2 * H, H, bias=False)
        if kind == "additive":
            self.score = nn.Linear(H, 1, bias=False)

    def forward(self, s, annotations, keys, padding):
        if self.kind == "additive":  # v^T tanh(W s + U h_j)
            scores = self.score(torch.tanh(keys + self.query(s).unsqueeze(1))).squeeze(2)
        else:  # s^T W h_j
            scores = torch.bmm(keys, s.unsqueeze(2)).squeeze(2)
        alpha = F.softmax(scores.masked_fill(padding, -1e9), dim=1)
        return torch.bmm(alpha.unsqueeze(1), annotations).squeeze(1)


class Seq2seqRNN(nn.Module):
    def __init__(self, cell, attention, V, E, H):
        super().__init__()
        self.cell, self.H = cell, H
        self.source_embedding = nn.Embedding(V, E)
        rnn = nn.GRU if cell == "gru" else nn.LSTM
        self.encoder = rnn(E, H, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)
        self.target_embedding = nn.Embedding(V, E)
        self.attention = Attention(attention, H)
        self.decoder = (nn.GRUCell if cell == "gru" else nn.LSTMCell)(E + 2 * H, H)
        self.generator = nn.Linear(3 * H + E, V)

    def encode(self, source, lengths):
        B, S = source.shape
        packed = pack_padded_sequence(self.source_embedding(source), lengths, batch_first=True, enforce_sorted=False)
        out, hidden = self.encoder(packed)
        if self.cell == "lstm":
            hidden = hidden[0]
        annotations, _ = pad_packed_sequence(out, batch_first=True, total_length=S)
        s0 = torch.tanh(self.bridge(torch.cat([hidden[0], hidden[1]], 1)))
        state = s0 if self.cell == "gru" else (s0, torch.zeros_like(s0))
        padding = torch.arange(S).unsqueeze(0) >= lengths.unsqueeze(1)
        return annotations, self.attention.key(annotations), padding, state

    def step(self, encoded, previous, state):
        annotations, keys, padding = encoded
        e = self.target_embedding(previous)
        s = state if self.cell == "gru" else state[0]
        context = self.attention(s, annotations, keys, padding)
        state = self.decoder(torch.cat([e, context], 1), state)
        h = state if self.cell == "gru" else state[0]
        return self.generator(torch.cat([h, context, e], 1)), state

    def forward(self, source, lengths, target):
        annotations, keys, padding, state = self.encode(source, lengths)
        logits = []
        for i in range(1, target.shape[1]):
            step, state = self.step((annotations, keys, padding), target[:, i - 1], state)
            logits.append(step)
        return torch.stack(logits, 1)

    @torch.no_grad()
    def greedy(self, source, lengths, max_target):
        annotations, keys, padding, state = self.encode(source, lengths)
        B = source.shape[0]
        out = torch.full((B, max_target), PAD, dtype=torch.int64)
        out[:, 0] = BOS
        done = torch.zeros(B, dtype=torch.bool)
        previous = out[:, 0].clone()
        for i in range(1, max_target):
            logits, state = self.step((annotations, keys, padding), previous, state)
            token = logits.argmax(1)
            out[:, i] = torch.where(done, torch.full_like(token, PAD), token)
            done = done | (token == EOS)
            previous = token
            if bool(done.all()):
                break
        return out


def c_names(model):
    """The state_dict under the C model's names (the encoder's directions as two cells)."""
    out = []
    for name, value in model.state_dict().items():
        if name.startswith("encoder."):
            base = name[len("encoder."):]
            direction = "backward" if base.endswith("_reverse") else "forward"
            base = base.replace("_l0_reverse", "").replace("_l0", "")
            name = f"encoder.{direction}.{base}"
        out.append((name, value))
    return out


def seq2seq_fixture(out_dir, cell, attention, seed):
    V, E, H, max_source, max_target = 45, 5, 6, 7, 6  # V: the toy tasks' vocabulary (models/seq_tasks.h)
    torch.manual_seed(seed)
    model = Seq2seqRNN(cell, attention, V, E, H)
    lengths = torch.tensor([7, 4, 2])
    target_lengths = [6, 4, 3]
    source = torch.randint(3, V, (3, max_source))
    for b, n in enumerate(lengths.tolist()):
        source[b, n:] = PAD
    target = torch.full((3, max_target), PAD, dtype=torch.int64)
    for b, n in enumerate(target_lengths):
        target[b, 0] = BOS
        target[b, 1:n - 1] = torch.randint(3, V, (n - 2,))
        target[b, n - 1] = EOS
    name = f"{cell}_{attention}"
    config = {"arch": cell, "attention": attention, "vocab_size": str(V),
              "embedding_size": str(E), "hidden_size": str(H), "max_source": str(max_source),
              "max_target": str(max_target), "pad": str(PAD), "bos": str(BOS), "eos": str(EOS)}
    write_safetensors(os.path.join(out_dir, f"{name}_PARAMS.safetensors"),
                      [(n, f32(v)) for n, v in c_names(model)], config)
    greedy = model.greedy(source, lengths, max_target)
    logits = model(source, lengths, target)
    loss = F.cross_entropy(logits.reshape(-1, V), target[:, 1:].reshape(-1), ignore_index=PAD)
    model.zero_grad()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    step_losses = []
    for _ in range(5):
        optimizer.zero_grad()
        step_loss = F.cross_entropy(model(source, lengths, target).reshape(-1, V), target[:, 1:].reshape(-1),
                                    ignore_index=PAD)
        step_losses.append(step_loss.item())
        step_loss.backward()
        optimizer.step()
    state = [("source", source.numpy().astype(np.int32)), ("source_length", lengths.numpy().astype(np.int32)),
             ("target", target.numpy().astype(np.int32)), ("logits", f32(logits)), ("loss", f32(loss)),
             ("step_losses", np.array(step_losses, dtype=np.float32)), ("greedy", greedy.numpy().astype(np.int32))]
    c_grads = [(f"grad.{n}", f32(g)) for n, g in c_names_of(grads)]
    write_safetensors(os.path.join(out_dir, f"{name}_STATE.safetensors"), state + c_grads, {"format": "pt"})


def c_names_of(tensors):
    class Holder:
        def state_dict(self):
            return tensors
    return c_names(Holder())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1337)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    cells = cell_fixture("gru", generator) + cell_fixture("lstm", generator)
    write_safetensors(os.path.join(args.out, "CELLS.safetensors"), cells, {"format": "pt"})
    seq2seq_fixture(args.out, "gru", "additive", args.seed)
    seq2seq_fixture(args.out, "lstm", "multiplicative", args.seed + 1)


if __name__ == "__main__":
    main()
