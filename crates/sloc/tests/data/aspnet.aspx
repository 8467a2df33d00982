<%-- 7 lines 2 code 4 comments 1 blanks --%>
<%@ Page Language="C#" %>
<asp:Label runat="server" />

<%-- a block comment
   still inside it --%>
<!-- another block comment -->
