// 6 lines 4 code 2 comments 0 blanks
let a = r####"x "### /* not a comment "####;
let b = br#"y"#; /* real
still */
let c = 1;
let d = r"\"; // comment
