{* 8 lines 3 code 4 comments 1 blanks *}
{foreach $items as $i}
  <li>{$i}</li>
{/foreach}

{* a block comment
   still inside it *}
<!-- another block comment -->
