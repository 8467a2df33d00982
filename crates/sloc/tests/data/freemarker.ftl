<#-- 9 lines 3 code 5 comments 1 blanks -->
<#list users as user>
  ${user.name}
</#list>

<#-- a block comment
   still inside it -->
[#-- another block comment --]
<!-- another block comment -->
