<%-- 7 lines 2 code 4 comments 1 blanks --%>
<%@ page contentType="text/html" %>
<p><%= request.getParameter("q") %></p>

<%-- a block comment
   still inside it --%>
<!-- another block comment -->
