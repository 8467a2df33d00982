# 6 lines 3 code 3 comments 0 blanks
EOF
cat <<EOF
# no line after the marker ends it, so this is a comment
echo hi
# comment
