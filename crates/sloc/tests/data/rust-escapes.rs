// 5 lines 4 code 1 comments 0 blanks
let a = "\\"; /* closed */
let b = '\\'; let c = b"\\\"/*"; // c
let d = "\
/* still the string */";
