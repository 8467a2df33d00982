# 6 lines 3 code 2 comments 1 blanks
set name = world
echo "hello $name"
# a line comment

set s = "# not a comment"
