// 9 lines 4 code 4 comments 1 blanks
/* outer /* nested */
   still outer */
let multi = """
    // not a comment
    """

let raw = #"a "raw" string \"#  // trailing
/// doc
