// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// The transcoder-pool walk of Livepeer's BondingManager (getFirstTranscoderInPool /
// getNextTranscoderInPool), over a fixed list, for the registration rank-check tests.
contract BondingManagerPool {
    address[] private pool;

    constructor(address[] memory transcoders) {
        pool = transcoders;
    }

    function getFirstTranscoderInPool() external view returns (address) {
        return pool.length == 0 ? address(0) : pool[0];
    }

    function getNextTranscoderInPool(address transcoder) external view returns (address) {
        for (uint256 i = 0; i < pool.length; i++) {
            if (pool[i] == transcoder) return i + 1 < pool.length ? pool[i + 1] : address(0);
        }
        return address(0);
    }
}
