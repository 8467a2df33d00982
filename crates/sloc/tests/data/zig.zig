// 5 lines 3 code 2 comments 0 blanks
const std = @import("std");
const s = "// not a comment";
/// doc comment
pub fn main() void {}
