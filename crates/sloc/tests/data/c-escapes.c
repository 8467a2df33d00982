// 6 lines 3 code 3 comments 0 blanks
char *a = "\\"; /* the string ended: this comment closes here */
char b = '\\'; /* so did this char
*/
char *c = "\\\" /* still the string */ \\";
// end
