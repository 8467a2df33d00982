# 6 lines 3 code 2 comments 1 blanks
package authz
default allow := false
# a line comment

msg := "# not a comment"
