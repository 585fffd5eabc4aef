"""``wc`` on the lab's files: what a learner counts after a pipeline (the lines of in.txt against out.txt)."""

from __future__ import annotations

from kafkalab.commands import LabSession, execute


def test_wc_counts_lines_words_and_bytes_like_the_shell_tool() -> None:
    s = LabSession(brokers=1, seed=1)
    try:
        for line in ("seq 1 20 >> in.txt", "seq 1 20 >> out.txt", "seq 11 20 >> out.txt"):
            assert execute(s, line).ok
        assert execute(s, "wc -l in.txt out.txt").lines == ["20 in.txt", "30 out.txt", "50 total"]
        assert execute(s, "wc in.txt").lines == ["20 20 51 in.txt"]  # lines, words, bytes
        assert execute(s, "wc -lc in.txt").lines == ["20 51 in.txt"]
        for bad, message in (
            ("wc", "wc: usage: wc [-l] [-w] [-c] FILE..."),
            ("wc -x in.txt", "wc: invalid option -- 'x'"),
            ("wc -l nope.txt", "wc: nope.txt: No such file or directory"),
            ("wc -l ../../etc/passwd", "is outside"),
        ):
            r = execute(s, bad)
            assert not r.ok and message in (r.error or ""), (bad, r.error)
    finally:
        s.close()
