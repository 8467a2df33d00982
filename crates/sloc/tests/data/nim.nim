# 4 lines 2 code 2 comments 0 blanks
#[ block #[ nested ]# still ]#
let s = "# no"
echo s
