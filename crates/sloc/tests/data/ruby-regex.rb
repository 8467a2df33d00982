# 16 lines 10 code 5 comments 1 blanks
# Regex literals and percent literals hold quotes and `#` that open nothing.
re = %r{"'}
words = %w[
  # a word, not a comment
  'x'
]
# a comment
ok = true if name =~ /"/
x = total / 2 # division
# comment after a division
s = %q(it's) # a literal quote

y = lines.grep(/'/)
z = 4 / 2 / 1 # comment
# last
