# 6 lines 3 code 2 comments 1 blanks
app [main] {}
main = "hello"
# a line comment

s = "# not a comment"
