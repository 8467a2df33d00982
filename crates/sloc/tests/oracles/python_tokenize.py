"""Python's own tokenizer as an oracle for sloc's Python rules.

Walks the running interpreter's standard library (or the directories given) and prints, for
every .py file that tokenize accepts, one line: the path, a tab, then one character per line
of the file: `B` blank, `C` code, `#` comment, by sloc's rules applied to tokenize's tokens.

sloc's rules, where they differ from "every token is code" (each deliberate, see the README):
- a line of nothing but whitespace is blank, also inside a string;
- a doc string is a comment: a triple-quoted string that is a statement of its own (only
  NEWLINE, INDENT, DEDENT or the file's start before it, a NEWLINE or the end after it, comments
  and blank lines aside), with no `f` prefix. A single-quoted statement string is code, as are
  f-strings: sloc's doc strings are the triple-quoted ones.
Everything else that is a token but a comment, a line end or indentation is code, and a
non-blank line that no token touches (a lone `\\` continuation) is code too.
"""

import multiprocessing
import os
import sys
import sysconfig
import tokenize

SKIP = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
        tokenize.ENCODING, tokenize.ENDMARKER}
QUIET = {tokenize.COMMENT, tokenize.NL}
WS = b" \t\r\x0b\x0c"


def is_doc_string(tok, before, after):
    if tok.type != tokenize.STRING:
        return False
    body = tok.string.lstrip("rRbBuU")
    if "f" in tok.string[: len(tok.string) - len(body)].lower():
        return False
    if not (body.startswith('"""') or body.startswith("'''")):
        return False
    starts = before is None or before.type in (tokenize.NEWLINE, tokenize.INDENT,
                                                 tokenize.DEDENT, tokenize.ENCODING)
    ends = after is None or after.type in (tokenize.NEWLINE, tokenize.ENDMARKER)
    return starts and ends


def kinds(data):
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    toks = list(tokenize.tokenize(iter(data.splitlines(keepends=True)).__next__))
    code = [False] * (len(lines) + 2)
    comment = [False] * (len(lines) + 2)
    significant = [t for t in toks if t.type not in QUIET]
    doc = set()
    for i, t in enumerate(significant):
        before = significant[i - 1] if i > 0 else None
        after = significant[i + 1] if i + 1 < len(significant) else None
        if is_doc_string(t, before, after):
            doc.add(id(t))
    for t in toks:
        if t.type in SKIP and t.type != tokenize.COMMENT:
            continue
        mark = comment if (t.type == tokenize.COMMENT or id(t) in doc) else code
        for n in range(t.start[0], t.end[0] + 1):
            if n <= len(lines):
                mark[n] = True
    out = []
    for n, line in enumerate(lines, 1):
        if line.strip(WS) == b"":
            out.append("B")
        elif code[n] or not comment[n]:
            out.append("C")
        else:
            out.append("#")
    return "".join(out)


def one(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        return path, kinds(data)
    except (tokenize.TokenError, SyntaxError, UnicodeDecodeError):
        return path, None  # Not Python that this tokenizer accepts (test data, Python 2).


def main():
    roots = sys.argv[1:] or [sysconfig.get_paths()["stdlib"]]
    paths = []
    for root in roots:
        for d, dirs, files in os.walk(root):
            dirs[:] = sorted(x for x in dirs if x != "site-packages")
            paths += [os.path.join(d, n) for n in sorted(files) if n.endswith(".py")]
    # Tokenizing 800k lines takes a while: use every core.
    with multiprocessing.Pool() as pool:
        for path, result in pool.imap(one, paths, chunksize=16):
            if result is not None:
                print(f"{path}\t{result}")


if __name__ == "__main__":
    main()
