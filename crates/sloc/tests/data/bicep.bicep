// 9 lines 4 code 4 comments 1 blanks
param location string = resourceGroup().location
var n = 1
// a line comment

/* a block comment
   still inside it */
var x = 1 /* a comment after code */
var s = '// not a comment'
