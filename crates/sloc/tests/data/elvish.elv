# 7 lines 4 code 2 comments 1 blanks
fn greet {|name|
  echo hello $name
}
# a line comment

var s = "# not a comment"
