# 8 lines 6 code 2 comments 0 blanks
[ $# -gt 0 ] || die "usage: prog FILE
# this line is inside the string
"
n=${#list} name=${path##*/} "quoted
# also inside the string"
echo done;# a real comment
# a real comment
