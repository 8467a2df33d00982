# 7 lines 4 code 2 comments 1 blanks
hook global WinCreate .* %{
  add-highlighter window/ number-lines
}
# a line comment

echo "# not a comment"
