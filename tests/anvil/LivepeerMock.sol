// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Controller, RoundsManager and the TicketBroker's read side in one contract, with the
// selectors of livepeer/protocol, for the discovery and auxData tests of chain/.
contract LivepeerMock {
    uint256 public currentRound = 4000;
    bool public currentRoundInitialized = true;
    mapping(uint256 => bytes32) public blockHashForRound;
    mapping(address => uint256) private deposits;

    event DepositFunded(address indexed sender, uint256 amount);

    constructor() {
        blockHashForRound[4000] = keccak256("round 4000");
    }

    function controller() external view returns (address) {
        return address(this);
    }

    function getContract(bytes32 id) external view returns (address) {
        return id == keccak256("RoundsManager") ? address(this) : address(0);
    }

    function setRound(uint256 round, bool initialized) external {
        currentRound = round;
        currentRoundInitialized = initialized;
    }

    function fundDeposit() external payable {
        deposits[msg.sender] += msg.value;
        emit DepositFunded(msg.sender, msg.value);
    }

    struct Sender {
        uint256 deposit;
        uint256 withdrawRound;
    }

    struct ReserveInfo {
        uint256 fundsRemaining;
        uint256 claimedInCurrentRound;
    }

    function getSenderInfo(address addr) external view returns (Sender memory sender, ReserveInfo memory reserve) {
        sender = Sender(deposits[addr], 0);
        reserve = ReserveInfo(0, 0);
    }
}
