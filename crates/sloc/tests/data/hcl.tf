# 7 lines 4 code 3 comments 0 blanks
// also a comment
/* and a block */
resource "x" "y" {
  name = "#not-a-comment"
  id   = 1
}
