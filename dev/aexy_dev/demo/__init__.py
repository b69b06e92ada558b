"""`aexy-stream demo`: the whole pipeline on one machine, with no service installed and no key.

feed.py        what it publishes (the last commits of a repository, the bundled webhook examples)
provider.py    which provider (Claude with a key, else Ollama if it answers, else rules), and why
session.py     one run: the processor in-process, publish, watch the results, stop
watch.py       reads `analysis.results` and `analysis.dlq` from the start, as rows
completion.py  when every expected result or dead letter has arrived (from the metrics)
view.py        a live table on a terminal, one plain line per result otherwise (rows: aexy_stream.cli.digest)
summary.py     the closing summary, from the metrics registry
"""
