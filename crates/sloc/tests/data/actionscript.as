// 10 lines 5 code 4 comments 1 blanks
package {
  public class Main {}
}
// a line comment

/* a block comment
   still inside it */
var x:int = 1; /* a comment after code */
var s:String = "// not a comment";
