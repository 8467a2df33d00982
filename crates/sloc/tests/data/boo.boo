# 11 lines 4 code 6 comments 1 blanks
def double(x as int):
    return 2 * x
# a line comment
// another kind of line comment

/* a block comment
   still inside it */
/* outer /* inner */ still a comment */
x = 1 /* a comment after code */
s = "# not a comment"
