# 6 lines 3 code 2 comments 1 blanks
EAPI=8
SLOT="0"
# a line comment

DESCRIPTION="# not a comment"
