# 9 lines 4 code 5 comments 0 blanks
# Ruby's `$'` and `$"` are variables, not quotes, and a `/` after `[` opens a regex.
rest = $'
# a comment after $'
loaded = $"
# a comment after $"
word = text[/it's/, 1]
# a comment after the regex
x = 1
