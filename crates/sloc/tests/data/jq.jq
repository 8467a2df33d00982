# 6 lines 3 code 2 comments 1 blanks
def double: . * 2;
.items[] | double
# a line comment

"# not a comment"
