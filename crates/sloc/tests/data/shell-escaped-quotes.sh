# 9 lines 4 code 5 comments 0 blanks
echo It\'s fine
# a comment after an escaped quote (no string opened)
echo \"not a string\"
# another comment
printf $'it\'s # still in the ANSI-C string\n'
# a comment after ANSI-C quoting, which ends at the unescaped quote
x=\\"an escaped backslash, then a string # not a comment"
# the last comment
