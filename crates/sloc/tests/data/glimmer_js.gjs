// 10 lines 4 code 5 comments 1 blanks
import Component from "@glimmer/component";
export default class Hello extends Component {}
// a line comment

/* a block comment
   still inside it */
<!-- another block comment -->
y = 1; /* a comment after code */
x = "// not a comment";
