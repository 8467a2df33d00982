' 8 lines 4 code 3 comments 1 blanks
sub main()
  print "hi"
end sub
' a line comment
REM  another kind of line comment

s = "' not a comment"
