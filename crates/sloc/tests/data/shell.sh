#!/bin/sh
# 10 lines 5 code 3 comments 2 blanks
echo "not # a comment"
echo 'single # quoted'

x=$# # the count of arguments
msg="multi
# still a string"

# done
