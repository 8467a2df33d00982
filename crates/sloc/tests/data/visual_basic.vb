' 4 lines 2 code 2 comments 0 blanks
REM old style comment
Dim s As String = "' not a comment"
MsgBox(s)
