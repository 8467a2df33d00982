# 3 lines 2 code 1 comments 0 blanks
print -r -- 'a # b'
echo done
