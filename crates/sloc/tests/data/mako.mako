## 10 lines 5 code 4 comments 1 blanks
<%inherit file="base.html"/>
% for i in items:
  ${i}
% endfor
## a line comment

<%doc> a block comment
   still inside it </%doc>
x <%doc> a comment after code </%doc>
