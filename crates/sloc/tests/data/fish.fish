# 3 lines 2 code 1 comments 0 blanks
set x "a # b"
echo $x
