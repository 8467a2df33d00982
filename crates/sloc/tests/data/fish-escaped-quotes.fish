# 4 lines 2 code 2 comments 0 blanks
echo It\'s fine
# a comment after an escaped quote (no string opened)
echo \'done
