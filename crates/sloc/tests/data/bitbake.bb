# 6 lines 3 code 2 comments 1 blanks
SUMMARY = "demo"
LICENSE = "MIT"
# a line comment

DESCRIPTION = "# not a comment"
