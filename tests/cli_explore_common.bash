# Sourced by the tests/cli_explore_*.sh scripts (after cli_common.bash), with $groundup and $tmp
# set: running a topic and checking what it printed, drew and recorded, and a topic's bad input.

# explore_topic TOPIC HEADER SERIES [OPTIONS...]: exit 0, the table header on stdout, a complete
# SVG with at least SERIES distinct series, the 'wrote' line on stderr, no temporary file left,
# no non-finite number in the table. The output is left in $tmp/TOPIC.out and TOPIC.err, the run
# record of a topic that trains something in $tmp/runs (GROUNDUP_RUNS; see expect_record).
explore_topic() {
    local topic=$1 header=$2 series=$3
    shift 3
    GROUNDUP_RUNS="$tmp/runs" "$groundup" explore "$topic" --out "$tmp/$topic.svg" "$@" >"$tmp/$topic.out" 2>"$tmp/$topic.err" ||
        fail "$topic: exit status $?"
    grep -qF -- "$header" "$tmp/$topic.out" || fail "$topic: no table header '$header'"
    grep -q '</svg>' "$tmp/$topic.svg" 2>/dev/null || fail "$topic: SVG missing or incomplete"
    [ "$(grep -o 'data-series="[0-9]*"' "$tmp/$topic.svg" | sort -u | wc -l)" -ge "$series" ] ||
        fail "$topic: fewer than $series series in the SVG"
    grep -q "wrote $tmp/$topic.svg" "$tmp/$topic.err" || fail "$topic: no 'wrote' line on stderr"
    ! compgen -G "$tmp/$topic.svg.tmp*" >/dev/null || fail "$topic: temporary file left behind"
    finite_outputs "$tmp/$topic.out"
}

# explore_bad DESCRIPTION PATTERN ARGS...: `groundup explore ARGS` fails with one line holding
# PATTERN (expect_error) and prints nothing on stdout.
explore_bad() {
    local description=$1 pattern=$2
    shift 2
    expect_error "$description" "$pattern" "$groundup" explore "$@"
    "$groundup" explore "$@" >"$tmp/bad_out" 2>/dev/null
    [ ! -s "$tmp/bad_out" ] || fail "$description: output on stdout"
}

# record_field TOPIC FIELD: the number FIELD ("value", "against_value") of the topic's run record.
record_field() {
    sed -n "s/^[[:space:]]*\"$2\":[[:space:]]*\\([-0-9.e+]*\\),*\$/\\1/p" "$tmp/runs/explore-$1.json" 2>/dev/null
}

# expect_record TOPIC FORMAT PRINTED [AGAINST]: the topic (run by explore_topic) left its run
# record $tmp/runs/explore-TOPIC.json (tools/run_record.h), an experiment's, whose value printed
# with FORMAT is PRINTED (what the topic printed), and whose against_value, when AGAINST is
# given, is AGAINST.
expect_record() {
    local topic=$1 format=$2 printed=$3 against=${4:-} file="$tmp/runs/explore-$1.json" value
    [ -s "$file" ] || { fail "$topic: no run record $file"; return; }
    grep -q '"kind":[[:space:]]*"experiment"' "$file" || fail "$topic: the record is not an experiment's"
    grep -q "\"command\":[[:space:]]*\"groundup explore $topic " "$file" || fail "$topic: the record's command"
    grep -q "^run record $file\$" "$tmp/$topic.err" 2>/dev/null || fail "$topic: no 'run record' line on stderr"
    value=$(record_field "$topic" value)
    [ -n "$value" ] && [ "$(printf "$format" "$value")" = "$printed" ] ||
        fail "$topic: the record's value '$value' is not the printed '$printed'"
    [ -z "$against" ] || [ "$(printf "$format" "$(record_field "$topic" against_value)")" = "$against" ] ||
        fail "$topic: the record's against_value is not the printed '$against'"
}
