# 4 lines 2 code 2 comments 0 blanks
quote = ?"; hash = ?#; esc = [?\", ?\\]
# a comment: `?"` is a character literal
IO.puts("done")
