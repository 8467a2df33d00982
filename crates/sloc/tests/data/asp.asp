' 7 lines 3 code 3 comments 1 blanks
<% Dim name
name = "world" %>
' a line comment
REM  another kind of line comment

Response.Write("' not a comment")
