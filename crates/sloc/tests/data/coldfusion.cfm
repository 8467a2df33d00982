<!--- 6 lines 2 code 3 comments 1 blanks --->
<cfset name = "world">
<cfoutput>Hello #name#</cfoutput>

<!--- a block comment
   still inside it --->
