// 8 lines 6 code 2 comments 0 blanks
let a = ##"a "# /* still the string "##
let b = ###"x "## y"###
let c = #"""
  /* not a comment */
  """#
/* real */
let d = 1
