# 7 lines 4 code 2 comments 1 blanks
extends Node
func _ready():
	pass
# a line comment

var s = "# not a comment"
