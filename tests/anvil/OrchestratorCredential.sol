// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// The OrchestratorCredential ("LPOC") surface the node reads (balanceOf, delegateOf), for
// the credential tests: one non-transferable credential per orchestrator address, token id
// uint256(uint160(orchestrator)), naming a delegate key that signs for it. Unlike the
// reference's contract, only the orchestrator itself mints its credential, and burning is
// an internal step, so the file compiles.
contract OrchestratorCredential {
    string public constant name = "Livepeer Orchestrator Credential";
    string public constant symbol = "LPOC";

    mapping(uint256 => address) private _owners;
    mapping(address => address) private _delegates;
    mapping(address => uint256) private _balances;

    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    event CredentialMinted(address indexed owner, uint256 indexed tokenId, address delegate);
    event DelegateUpdated(address indexed owner, address delegate);
    event CredentialBurned(address indexed owner, uint256 indexed tokenId, address burner);

    function tokenIdFor(address orchestrator) public pure returns (uint256) {
        return uint256(uint160(orchestrator));
    }

    function balanceOf(address owner) external view returns (uint256) {
        require(owner != address(0), "zero address");
        return _balances[owner];
    }

    function ownerOf(uint256 tokenId) external view returns (address) {
        address owner = _owners[tokenId];
        require(owner != address(0), "no such credential");
        return owner;
    }

    function delegateOf(address owner) external view returns (address) {
        return _delegates[owner];
    }

    function mint(address orchestrator, address delegate) external {
        require(msg.sender == orchestrator, "only the orchestrator mints");
        require(delegate != address(0), "zero delegate");
        require(_balances[orchestrator] == 0, "already held");
        uint256 id = tokenIdFor(orchestrator);
        _owners[id] = orchestrator;
        _delegates[orchestrator] = delegate;
        _balances[orchestrator] = 1;
        emit CredentialMinted(orchestrator, id, delegate);
        emit Transfer(address(0), orchestrator, id);
    }

    function updateDelegate(address orchestrator, address delegate) external {
        require(msg.sender == orchestrator, "only the orchestrator");
        require(_balances[orchestrator] == 1, "not held");
        require(delegate != address(0), "zero delegate");
        _delegates[orchestrator] = delegate;
        emit DelegateUpdated(orchestrator, delegate);
    }

    function burn(uint256 tokenId) external {
        address owner = _owners[tokenId];
        require(owner != address(0), "no such credential");
        require(msg.sender == owner || msg.sender == _delegates[owner], "not owner or delegate");
        _burn(owner, tokenId);
    }

    function _burn(address owner, uint256 tokenId) internal {
        delete _owners[tokenId];
        delete _delegates[owner];
        _balances[owner] = 0;
        emit CredentialBurned(owner, tokenId, msg.sender);
        emit Transfer(owner, address(0), tokenId);
    }
}
