// 9 lines 4 code 4 comments 1 blanks
import QtQuick
Rectangle { width: 100 }
// a line comment

/* a block comment
   still inside it */
Item {} /* a comment after code */
Text { text: "// not a comment" }
