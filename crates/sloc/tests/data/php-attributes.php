<?php
// 5 lines 3 code 2 comments 0 blanks
#[Attribute(Attribute::TARGET_CLASS)]
final class Route {}
# a comment; the `#[` line above is an attribute, code
