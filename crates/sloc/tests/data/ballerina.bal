// 6 lines 3 code 2 comments 1 blanks
import ballerina/io;
public function main() { io:println("hi"); }
// a line comment

x = "// not a comment";
