// 9 lines 4 code 4 comments 1 blanks
module top(input logic clk);
endmodule
// a line comment

/* a block comment
   still inside it */
logic w; /* a comment after code */
initial $display("// not a comment");
