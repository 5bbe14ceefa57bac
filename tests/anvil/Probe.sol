// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// A small contract for the anvil tests of chain/: calls, reverts with reasons, and events
// with indexed and dynamic parameters.
contract Probe {
    struct Item {
        uint256 amount;
        bytes tag;
    }

    event Stored(address indexed who, uint256 indexed key, string note, Item[] items);

    mapping(uint256 => string) public notes;
    uint256 public total;

    function store(uint256 key, string calldata note, Item[] calldata items) external {
        notes[key] = note;
        for (uint256 i = 0; i < items.length; i++) total += items[i].amount;
        emit Stored(msg.sender, key, note, items);
    }

    function double(uint256 x) external pure returns (uint256) {
        require(x < 10, "x too large");
        return x * 2;
    }

    function boom(uint256 x) external pure returns (uint256) {
        uint256[] memory a = new uint256[](1);
        return a[x];
    }
}
