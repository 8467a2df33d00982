// 5 lines 3 code 2 comments 0 blanks
pragma solidity ^0.8.0;
/* a contract */
contract C {
}
