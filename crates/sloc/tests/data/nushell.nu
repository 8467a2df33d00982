# 7 lines 4 code 2 comments 1 blanks
def greet [name] {
  $"hello ($name)"
}
# a line comment

let s = "# not a comment"
